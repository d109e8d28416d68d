{#- Fails with one row per null cell of the listed columns (`null_column` names it): dbt's
    `not_null` over several columns in one test, so a model's not-null rules cost one node
    and one query, not one each (benchmarks: dbt's cost per node is mostly its own). -#}
{% test not_null_columns(model, columns) %}
    {% for column in columns %}
        select '{{ column }}' as null_column from {{ model }} where {{ column }} is null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endtest %}
