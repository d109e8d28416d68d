-- One row per HubSpot contact with its company: the contact's company association, else
-- (fallback) the company whose domain is the contact's email domain (int_company_domains:
-- a shared domain goes to the earliest created company). `match_method` says which:
-- 'association', 'email_domain', or null when neither finds a company (a personal address,
-- a domain no company has).
with

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

company_domains as (
    select * from {{ ref('int_company_domains') }}
),

domained as (
    select
        contact_id,
        email,
        nullif({{ dbt.split_part('email', "'@'", 2) }}, '') as email_domain,
        customer_id as associated_customer_id,
        updated_at
    from contacts
),

final as (
    select
        domained.contact_id,
        domained.email,
        domained.email_domain,
        domained.associated_customer_id,
        coalesce(domained.associated_customer_id, company_domains.customer_id) as customer_id,
        case
            when domained.associated_customer_id is not null then 'association'
            when company_domains.customer_id is not null then 'email_domain'
        end as match_method,
        domained.updated_at
    from domained
    left join company_domains
        on domained.email_domain = company_domains.domain
)

select * from final
