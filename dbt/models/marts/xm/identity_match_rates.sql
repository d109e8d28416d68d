{#- How well the four identity links match, one row per link: Zendesk agents to BambooHR
    employees by work email, Zendesk organizations to HubSpot companies by domain,
    relationship-NPS responses to HubSpot contacts by email, CSAT responses to Zendesk
    tickets by ticket id. `match_rate` = matched / total (null when total is 0). -#}
with

identity_links as (
    select * from {{ ref('int_identity_links') }}
),

links as (
    select 'agent_employee' as link
    union all
    select 'organization_customer'
    union all
    select 'nps_respondent_contact'
    union all
    select 'csat_response_ticket'
),

counts as (
    select
        identity_links.link,
        count(*) as total,
        sum(case when identity_links.is_matched then 1 else 0 end) as matched
    from identity_links
    group by identity_links.link
)

select
    cast(links.link as {{ dbt.type_string() }}) as link,
    cast(coalesce(counts.total, 0) as {{ dbt.type_bigint() }}) as total,
    cast(coalesce(counts.matched, 0) as {{ dbt.type_bigint() }}) as matched,
    cast(coalesce(counts.total, 0) - coalesce(counts.matched, 0) as {{ dbt.type_bigint() }}) as unmatched,
    {{ ex_ratio('counts.matched', 'counts.total') }} as match_rate
from links
left join counts
    on links.link = counts.link
