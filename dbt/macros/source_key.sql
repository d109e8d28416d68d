{#- The quarantine's `source_key`: the record's key as text (parts joined by ":"), or
    "_dlt_id=<id>" when the key is missing, so every quarantined row can be found in raw. -#}
{% macro source_key(key_columns) -%}
    coalesce(
        {% for key in key_columns -%}
            cast({{ key }} as {{ dbt.type_string() }}){{ " || ':' || " if not loop.last }}
        {%- endfor %},
        '_dlt_id=' || _dlt_id
    )
{%- endmacro %}
