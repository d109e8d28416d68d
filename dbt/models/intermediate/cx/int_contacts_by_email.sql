-- One row per normalised email: the HubSpot contact (and its company, int_contact_companies:
-- the association, else the email domain's company) that email identifies. Emails are
-- lower(trim()) in staging. When several contacts share an email, the one with a company
-- association wins, then one whose company comes from the email domain, then the most
-- recently updated, then the lowest id.
with

contacts as (
    select * from {{ ref('int_contact_companies') }}
),

ranked as (
    select
        email,
        contact_id,
        customer_id,
        match_method,
        count(*) over (partition by email) as count_candidate_contacts,
        row_number() over (
            partition by email
            order by
                case match_method when 'association' then 0 when 'email_domain' then 1 else 2 end,
                updated_at desc,
                contact_id asc
        ) as email_rank
    from contacts
    where email is not null and email <> ''
),

final as (
    select
        email,
        contact_id,
        customer_id,
        match_method,
        count_candidate_contacts
    from ranked
    where email_rank = 1
)

select * from final
