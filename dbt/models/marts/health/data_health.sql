{#- What dirty data keeps out of the metrics, one row per subject and verdict. Subject
    `won_deals`: every won HubSpot deal (latest version; stage aliases mapped by the
    hubspot_deal_stages seed) either became a contract (verdict 'contract') or was
    quarantined with a reason (no company association, no valid contract period, an
    unreadable value), which keeps it out of the customer counts, churn and CLV. With the
    deals, their amount and annualised contract value, and their share of all won deals. -#}
with

won_deals as (
    select * from {{ ref('int_won_deals') }}
),

verdicts as (
    select
        'won_deals' as subject,
        coalesce(exclusion_reason, 'contract') as verdict,
        not is_contract as is_excluded,
        count(*) as records,
        sum(amount) as amount,
        sum(annual_contract_value) as annual_contract_value
    from won_deals
    group by coalesce(exclusion_reason, 'contract'), not is_contract
),

totals as (
    select
        sum(records) as total_records,
        sum(amount) as total_amount
    from verdicts
)

select
    cast(verdicts.subject as {{ dbt.type_string() }}) as subject,
    cast(verdicts.verdict as {{ dbt.type_string() }}) as verdict,
    verdicts.is_excluded,
    cast(verdicts.records as {{ dbt.type_bigint() }}) as records,
    cast(verdicts.amount as {{ ex_type_double() }}) as amount,
    cast(verdicts.annual_contract_value as {{ ex_type_double() }}) as annual_contract_value,
    {{ ex_ratio('verdicts.records', 'totals.total_records') }} as share_of_records,
    {{ ex_ratio('verdicts.amount', 'totals.total_amount') }} as share_of_amount
from verdicts
cross join totals
