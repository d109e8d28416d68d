{#- How well the identity links match, one row per link: Zendesk agents to BambooHR
    employees by work email, Zendesk organizations to HubSpot companies by domain,
    relationship-NPS responses to HubSpot contacts by email and to customers (the contact's
    company, else the email domain's), CSAT responses to Zendesk tickets by ticket id,
    HubSpot contacts to companies (association, else email domain) and won deals to
    companies (association only: an unmatched won deal is quarantined, no contract).
    `match_rate` = matched / total (null when total is 0); `matched_by_fallback` counts the
    matches made by the email-domain fallback. Records whose match is not decided yet (newer
    than the other source's data loaded: int_identity_links.is_pending) are left out of
    total and counted as `pending`. -#}
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
    union all
    select 'nps_respondent_customer'
    union all
    select 'contact_company'
    union all
    select 'deal_company'
),

counts as (
    select
        identity_links.link,
        sum(case when identity_links.is_pending then 0 else 1 end) as total,
        sum(case when identity_links.is_matched then 1 else 0 end) as matched,
        sum(case when identity_links.is_pending then 1 else 0 end) as pending,
        sum(
            case when identity_links.is_matched and identity_links.match_method = 'email_domain' then 1 else 0 end
        ) as matched_by_fallback
    from identity_links
    group by identity_links.link
)

select
    cast(links.link as {{ dbt.type_string() }}) as link,
    cast(coalesce(counts.total, 0) as {{ dbt.type_bigint() }}) as total,
    cast(coalesce(counts.matched, 0) as {{ dbt.type_bigint() }}) as matched,
    cast(coalesce(counts.total, 0) - coalesce(counts.matched, 0) as {{ dbt.type_bigint() }}) as unmatched,
    {{ ex_ratio('counts.matched', 'counts.total') }} as match_rate,
    cast(coalesce(counts.matched_by_fallback, 0) as {{ dbt.type_bigint() }}) as matched_by_fallback,
    cast(coalesce(counts.pending, 0) as {{ dbt.type_bigint() }}) as pending
from links
left join counts
    on links.link = counts.link
