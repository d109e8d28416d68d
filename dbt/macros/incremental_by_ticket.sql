{#- True for a row written by a dlt load newer than the newest `_dlt_load_id` already in the
    model being built (`{{ this }}`); for every row when the model is empty. Load ids are
    epoch seconds as text, compared as numbers. Only in an incremental run's SQL. -#}
{% macro loaded_after_this() -%}
    cast(_dlt_load_id as {{ ex_type_double() }}) > (
        select coalesce(max(cast(_dlt_load_id as {{ ex_type_double() }})), 0) from {{ this }}
    )
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
