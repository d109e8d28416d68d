{#- The identity links in one shape, one row per source record: `link`, the source
    record's key (as text), whether it matched, how (`match_method`: 'email_domain' marks a
    match made by the documented fallback), and why not. The links are the ones the marts
    use: agents to employees here (int_agent_employees), organizations to companies, NPS
    responses to contacts and to customers, CSAT responses to tickets, contacts to
    companies and won deals to companies from the CX models (int_customer_organizations,
    int_nps_respondent_contacts, int_csat_response_tickets, int_contact_companies,
    int_won_deals), so the reported match rates are those of the published data.
    identity_match_rates and identity_unmatched read this. No email is carried.
    `is_pending`: an unmatched record newer than the other source's data loaded (an agent
    created after the newest HR record, an organization or NPS response after the newest
    CRM record): its counterpart may simply not be loaded yet, so its match is not decided
    (each source decides up to its own horizon, int_source_horizons). -#}
with

agent_employees as (
    select * from {{ ref('int_agent_employees') }}
),

customer_organizations as (
    select * from {{ ref('int_customer_organizations') }}
),

nps_respondent_contacts as (
    select * from {{ ref('int_nps_respondent_contacts') }}
),

csat_response_tickets as (
    select * from {{ ref('int_csat_response_tickets') }}
),

contact_companies as (
    select * from {{ ref('int_contact_companies') }}
),

won_deals as (
    select * from {{ ref('int_won_deals') }}
),

horizons as (
    select * from {{ ref('int_source_horizons') }}
),

links as (
    select
        'agent_employee' as link,
        cast(agent_employees.agent_user_id as {{ dbt.type_string() }}) as source_key,
        agent_employees.is_matched,
        cast(null as {{ dbt.type_string() }}) as match_method,
        agent_employees.agent_created_at as record_at,
        'bamboohr' as counterpart_source,
        agent_employees.unmatched_reason
    from agent_employees

    union all

    select
        'organization_customer' as link,
        cast(customer_organizations.organization_id as {{ dbt.type_string() }}) as source_key,
        customer_organizations.is_matched,
        cast(null as {{ dbt.type_string() }}) as match_method,
        customer_organizations.created_at as record_at,
        'hubspot' as counterpart_source,
        case
            when customer_organizations.is_matched then null
            when customer_organizations.domain is null or customer_organizations.domain = ''
                then 'organization has no domain'
            else 'no HubSpot company has domain ' || customer_organizations.domain
        end as unmatched_reason
    from customer_organizations

    union all

    select
        'nps_respondent_contact' as link,
        cast(nps_respondent_contacts.response_id as {{ dbt.type_string() }}) as source_key,
        nps_respondent_contacts.is_matched,
        cast(null as {{ dbt.type_string() }}) as match_method,
        nps_respondent_contacts.recorded_at as record_at,
        'hubspot' as counterpart_source,
        case
            when nps_respondent_contacts.is_matched then null
            when
                nps_respondent_contacts.respondent_email is null
                or nps_respondent_contacts.respondent_email = ''
                then 'response has no respondent email'
            else 'no HubSpot contact has the respondent email'
        end as unmatched_reason
    from nps_respondent_contacts

    union all

    select
        'csat_response_ticket' as link,
        cast(csat_response_tickets.response_id as {{ dbt.type_string() }}) as source_key,
        csat_response_tickets.is_matched,
        cast(null as {{ dbt.type_string() }}) as match_method,
        cast(null as {{ dbt.type_timestamp() }}) as record_at,
        'zendesk' as counterpart_source,
        case
            when csat_response_tickets.is_matched then null
            when csat_response_tickets.ticket_id is null then 'response has no ticket id'
            else
                'ticket ' || cast(csat_response_tickets.ticket_id as {{ dbt.type_string() }})
                || ' is not in Zendesk'
        end as unmatched_reason
    from csat_response_tickets

    union all

    select
        'nps_respondent_customer' as link,
        cast(nps_respondent_contacts.response_id as {{ dbt.type_string() }}) as source_key,
        nps_respondent_contacts.customer_id is not null as is_matched,
        nps_respondent_contacts.customer_match_method as match_method,
        nps_respondent_contacts.recorded_at as record_at,
        'hubspot' as counterpart_source,
        case
            when nps_respondent_contacts.customer_id is not null then null
            when nps_respondent_contacts.respondent_domain is null
                then 'response has no respondent email'
            when nps_respondent_contacts.contact_id is null
                then
                    'no HubSpot contact has the respondent email and no company has the domain '
                    || nps_respondent_contacts.respondent_domain
            else
                'the contact has no company association and no company has the domain '
                || nps_respondent_contacts.respondent_domain
        end as unmatched_reason
    from nps_respondent_contacts

    union all

    select
        'contact_company' as link,
        cast(contact_companies.contact_id as {{ dbt.type_string() }}) as source_key,
        contact_companies.customer_id is not null as is_matched,
        contact_companies.match_method,
        cast(null as {{ dbt.type_timestamp() }}) as record_at,
        'hubspot' as counterpart_source,
        case
            when contact_companies.customer_id is not null then null
            when contact_companies.email_domain is null
                then 'no company association and no email'
            else
                'no company association and no company has the domain '
                || contact_companies.email_domain
        end as unmatched_reason
    from contact_companies

    union all

    select
        'deal_company' as link,
        cast(won_deals.deal_key as {{ dbt.type_string() }}) as source_key,
        won_deals.has_company_association as is_matched,
        case when won_deals.has_company_association then 'association' end as match_method,
        cast(null as {{ dbt.type_timestamp() }}) as record_at,
        'hubspot' as counterpart_source,
        case
            when not won_deals.has_company_association
                then 'won deal has no association to a HubSpot company (quarantined, no contract)'
        end as unmatched_reason
    from won_deals
),

final as (
    select
        links.link,
        links.source_key,
        links.is_matched,
        links.match_method,
        coalesce(
            not links.is_matched
            and links.record_at > case links.counterpart_source
                when 'bamboohr' then horizons.bamboohr_loaded_through_at
                when 'hubspot' then horizons.hubspot_loaded_through_at
                when 'zendesk' then horizons.zendesk_loaded_through_at
            end,
            false
        ) as is_pending,
        links.unmatched_reason
    from links
    cross join horizons
)

select * from final
