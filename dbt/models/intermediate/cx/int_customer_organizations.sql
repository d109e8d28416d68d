-- One row per Zendesk organization, with the HubSpot company (customer) it is, matched by
-- normalised domain (staging lower-cases, trims and strips a leading "www."; a domain
-- shared by several companies goes to the earliest created, see int_company_domains).
with

organizations as (
    select * from {{ ref('stg_zendesk__organizations') }}
),

company_domains as (
    select * from {{ ref('int_company_domains') }}
),

final as (
    select
        organizations.organization_id,
        organizations.organization_name,
        organizations.domain,
        company_domains.customer_id,
        company_domains.customer_id is not null as is_matched,
        coalesce(company_domains.count_candidate_customers, 0) as count_candidate_customers,
        organizations.created_at,
        organizations.updated_at
    from organizations
    left join company_domains
        on organizations.domain = company_domains.domain
)

select * from final
