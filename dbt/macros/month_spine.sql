{#- One row per calendar month from `first_month` to `last_month` inclusive (columns of the
    one-row relation or CTE `bounds`): `month` (its first day, a date), `next_month` (the
    first day of the following month), and every column of `bounds`. Uses dbt's
    generate_series with a fixed bound (100 years), so no introspective query runs at
    compile time and unit tests can mock the bounds. -#}
{% macro month_spine(bounds, max_months=1200) -%}
    select
        cast({{ dbt.dateadd('month', 'series.generated_number - 1', 'month_bounds.first_month') }} as date) as month,
        cast({{ dbt.dateadd('month', 'series.generated_number', 'month_bounds.first_month') }} as date) as next_month,
        month_bounds.*
    from ({{ dbt.generate_series(max_months) }}) as series
    cross join {{ bounds }} as month_bounds
    where series.generated_number - 1
        <= {{ dbt.datediff('month_bounds.first_month', 'month_bounds.last_month', 'month') }}
{%- endmacro %}
