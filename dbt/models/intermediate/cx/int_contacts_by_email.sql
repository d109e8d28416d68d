-- One row per normalised email: the HubSpot contact (and its company) that email identifies.
-- Emails are lower(trim()) in staging. When several contacts share an email, the one with a
-- company association wins, then the most recently updated, then the lowest id.
with

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

ranked as (
    select
        email,
        contact_id,
        customer_id,
        count(*) over (partition by email) as count_candidate_contacts,
        row_number() over (
            partition by email
            order by
                case when customer_id is null then 1 else 0 end,
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
        count_candidate_contacts
    from ranked
    where email_rank = 1
)

select * from final
