-- One row per ticket id in raw (staged or not): the newest dlt load that wrote the ticket or
-- any of its audits. The incremental ticket models rebuild the tickets loaded after the
-- newest load they hold (`loaded_after_this`).
select
    ticket_id,
    max(_dlt_load_id) as _dlt_load_id
from (
    select
        id as ticket_id,
        _dlt_load_id
    from {{ source('raw_zendesk', 'tickets') }}
    union all
    select
        ticket_id,
        _dlt_load_id
    from {{ source('raw_zendesk', 'ticket_events') }}
) as loads
where ticket_id is not null
group by ticket_id
