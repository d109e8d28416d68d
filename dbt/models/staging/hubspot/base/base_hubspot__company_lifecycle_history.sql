{#- Every raw company lifecycle stage history entry, parsed, with the quarantine verdict
    (macros/hubspot_lifecycle_history.sql) and the dedup rank (newest load). -#}
{{ hubspot_lifecycle_history_base('companies_lifecycle_history', 'customer_id', 'stg_hubspot__companies', 'company') }}
