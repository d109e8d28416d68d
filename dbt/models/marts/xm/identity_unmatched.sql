{#- Every record of an identity link that did not match, with the reason: which agents
    have no employee, which organizations no company, which NPS responses no contact,
    which CSAT responses no ticket. `source_key` is the source record's id as text; no
    email appears here. -#}
with

identity_links as (
    select * from {{ ref('int_identity_links') }}
)

select
    cast(identity_links.link as {{ dbt.type_string() }}) as link,
    cast(identity_links.source_key as {{ dbt.type_string() }}) as source_key,
    cast(
        case
            when identity_links.is_pending
                then
                    'pending, newer than the other source''s data loaded: '
                    || identity_links.unmatched_reason
            else identity_links.unmatched_reason
        end
        as {{ dbt.type_string() }}
    ) as detail
from identity_links
where not identity_links.is_matched
