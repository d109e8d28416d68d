{#- 1 for the version of a record staging keeps, 2.. for the older copies it drops.
    Latest first by `order_by` (the vendor's updated_at or cursor), ties broken by the newest
    dlt load, then by dlt's row id, so the choice is deterministic. Rows with a null key part
    are never duplicates of each other (rank 1; they are quarantined). -#}
{% macro dedup_rank(key_columns, order_by=none) -%}
    case
        when {% for key in key_columns %}{{ key }} is null{{ " or " if not loop.last }}{% endfor %} then 1
        else
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by
                    {% if order_by %}{{ order_by }}, {% endif -%}
                    cast(_dlt_load_id as {{ ex_type_double() }}) desc,
                    _dlt_id desc
            )
    end
{%- endmacro %}
