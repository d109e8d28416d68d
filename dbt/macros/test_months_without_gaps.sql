{#- Calendar completeness: every month between the first and the last of `column_name`
    (first days of months) is present, within each value of `partition_by` if given. Fails
    with each partition whose distinct months are fewer than the months its span covers.
    (Duplicates are the key tests' business.) Blocking, like every mart rule. -#}
{% test months_without_gaps(model, column_name, partition_by=none) %}
    {{ config(severity='error') }}
    with

    months as (
        select distinct
            {%- if partition_by %}
            {{ partition_by }} as partition_value,
            {%- endif %}
            {{ column_name }} as month
        from {{ model }}
        where {{ column_name }} is not null
    ),

    spans as (
        select
            {%- if partition_by %}
            partition_value,
            {%- endif %}
            min(month) as first_month,
            max(month) as last_month,
            count(*) as months_present
        from months
        {%- if partition_by %}
        group by partition_value
        {%- endif %}
    )

    select *
    from spans
    where months_present <> {{ dbt.datediff('first_month', 'last_month', 'month') }} + 1
{% endtest %}
