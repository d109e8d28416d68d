{#- A row-level rule written as a boolean SQL expression over the model's columns. Fails
    with each row where it is false; a row where it is null (a value unknown) passes, so
    write `a <= b` for "a <= b where both are known". Blocking, like every mart rule. -#}
{% test expression_is_true(model, expression) %}
    {{ config(severity='error') }}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
