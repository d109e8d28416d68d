{#- Every raw contact lifecycle stage history entry, parsed, with the quarantine verdict
    (macros/hubspot_lifecycle_history.sql) and the dedup rank (newest load). -#}
{{ hubspot_lifecycle_history_base('contacts_lifecycle_history', 'contact_id', 'stg_hubspot__contacts', 'contact') }}
