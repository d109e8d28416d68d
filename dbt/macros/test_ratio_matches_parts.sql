{#- A shipped ratio agrees with the ratio recomputed from the parts shipped beside it:
    `column = scale * numerator / denominator` within a relative gap of `tolerance`, and
    null exactly when the recomputed ratio is null (a part null, or the denominator 0).
    Fails with each row where it does not. Blocking, like every mart rule. -#}
{% test ratio_matches_parts(model, column_name, numerator, denominator, scale=1, tolerance=1e-6) %}
    {{ config(severity='error') }}
    with

    recomputed as (
        select
            *,
            {{ scale }} * cast({{ numerator }} as {{ ex_type_double() }})
                / nullif({{ denominator }}, 0) as recomputed_from_parts
        from {{ model }}
    )

    select *
    from recomputed
    where
        ({{ column_name }} is null) <> (recomputed_from_parts is null)
        or abs({{ column_name }} - recomputed_from_parts)
        > {{ tolerance }} * greatest(abs(recomputed_from_parts), 1.0)
{% endtest %}
