{#- True for a row written by a dlt load newer than `newest_load`, the newest `_dlt_load_id`
    already in the model being built (`newest_load_in_this()`, read once at the top of the
    model); for every row when the model is empty. Only in an incremental run's SQL.
    `column` names the row's load id (qualify it when several relations are joined).
    The newest load is read when the model compiles (before it runs, so the same value a
    subquery in the SQL would see), and compared as a constant: the engine then skips the
    raw tables' row groups written before it (DuckDB's min/max statistics) instead of
    casting and comparing every row of the history, so the one-day refresh's scans follow
    the day's loads (issue 22; `benchmarks/results/notes.md`). Load ids are dlt's epoch
    seconds as text (`str(time.time())`: ten integer digits until the year 2286, the
    fraction without trailing zeros), whose order as text is their order as numbers. The
    compiled SQL (`dbt compile`, the docs' compiled code) holds that load id: run later by
    hand, it misses the loads since. -#}
{% macro loaded_after(newest_load, column='_dlt_load_id') -%}
    {{ column }} > '{{ newest_load }}'
{%- endmacro %}

{#- The newest `_dlt_load_id` in `{{ this }}`, as text: one query, so a model reads it once
    (`{%- set newest_load = newest_load_in_this() %}` at its top) and passes it to each
    `loaded_after`. '0' when the model is empty, at parse, and when the run is not
    incremental (`{{ this }}` may not exist yet; nothing compares with it then). -#}
{% macro newest_load_in_this() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('0') }}
    {%- endif -%}
    {%- set newest = run_query('select max(_dlt_load_id) from ' ~ this).columns[0].values()[0] -%}
    {{ return(newest or '0') }}
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

{#- Post-hook of the incremental base tables: drop every row whose raw row (dlt's `_dlt_id`)
    is gone. dlt replaces a record it merges again (a new `_dlt_id`, and new child rows), so
    this removes the stale copy a record leaves under its old ticket when it comes back under
    another one (or is re-sent, or deleted), including from a ticket that yields no rows at
    all any more (delete+insert on ticket_id never touches such a ticket). -#}
{% macro delete_rows_gone_from_raw(raw) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as built
        where not exists (
            select 1
            from {{ raw }} as raw_rows
            where raw_rows._dlt_id = built._dlt_id
        )
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of an incremental ticket model with one row per upstream record (`key`): drop
    the rows whose record is no longer staged under their ticket. After the run that is a
    ticket this run had to rebuild but that yielded no rows (e.g. its only status change
    moved to another ticket): delete+insert on ticket_id never touches such a ticket. -#}
{% macro delete_rows_no_longer_staged(upstream, key) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as built
        where not exists (
            select 1
            from {{ upstream }} as upstream
            where
                upstream.{{ key }} = built.{{ key }}
                and upstream.ticket_id = built.ticket_id
        )
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of int_sla_instances: drop the instances whose application is no longer
    staged (the ticket's events quarantined, gone from raw or moved to another ticket). A
    rebuilt ticket's instances replace its old ones (delete+insert on ticket_id); an
    instance that is not rebuilt any more needs this. -#}
{% macro delete_sla_instances_not_applied() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as built
        where not exists (
            select 1
            from {{ ref('stg_zendesk__ticket_metric_events') }} as applied
            where
                applied.ticket_id = built.ticket_id
                and applied.sla_metric = built.sla_metric
                and applied.instance_id = built.instance_id
                and applied.event_type = 'apply_sla'
        )
    {%- endif -%}
{%- endmacro %}
