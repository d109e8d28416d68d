{#- True for a row written by a dlt load newer than the newest `_dlt_load_id` already in the
    model being built (`{{ this }}`); for every row when the model is empty. Load ids are
    epoch seconds as text, compared as numbers. Only in an incremental run's SQL. -#}
{% macro loaded_after_this(load_id='_dlt_load_id') -%}
    cast({{ load_id }} as double precision) > (
        select coalesce(max(cast(_dlt_load_id as double precision)), 0) from {{ this }}
    )
{%- endmacro %}

{#- One row per raw ticket id: the newest dlt load that wrote the ticket or any of its audits
    (`_dlt_load_id`). In an incremental model's run, only the tickets loaded after the newest
    load already in the model: the ones it must rebuild, so its work follows what was
    loaded, not the size of the history. Staging only (it reads the sources). -#}
{% macro zendesk_ticket_loads() -%}
    select
        ticket_id,
        max(_dlt_load_id) as _dlt_load_id
    from (
        select
            id as ticket_id,
            _dlt_load_id
        from {{ source('raw_zendesk', 'tickets') }}
        {% if is_incremental() %}where {{ loaded_after_this() }}{% endif %}
        union all
        select
            ticket_id,
            _dlt_load_id
        from {{ source('raw_zendesk', 'ticket_events') }}
        {% if is_incremental() %}where {{ loaded_after_this() }}{% endif %}
    ) as loads
    where ticket_id is not null
    group by ticket_id
{%- endmacro %}

{#- Post-hook of the incremental ticket models: drop the rows of tickets gone from `upstream`
    (the model's own input: its ticket is no longer staged, its latest version having failed
    validation). A rebuilt ticket's rows replace its old ones (delete+insert on ticket_id);
    a ticket that yields no rows any more needs this. -#}
{% macro delete_vanished_tickets(upstream) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as built
        where not exists (
            select 1
            from {{ upstream }} as upstream
            where upstream.ticket_id = built.ticket_id
        )
    {%- endif -%}
{%- endmacro %}
