{#- A model's column rules in one test: dbt's `not_null`, `unique`, `accepted_values` (and
    a key of several columns) and `relationships`, and ratios recomputed from their parts,
    one node and one query per model instead of one per rule
    (dbt's cost per node is mostly its own Python: benchmarks/results/notes.md). Fails with
    one row per broken rule instance, named in `rule`, `column_name` and `value`:
      not_null         a null cell (one row per null cell);
      unique           a value that occurs more than once (one row per value; nulls are not
                       values, as in dbt's `unique`); an entry that is a list of columns is a
                       key of several columns, every combination once (nulls included);
      accepted_values  a value not in the column's list (one row per distinct value; nulls
                       pass, as in dbt's `accepted_values`);
      ratio_matches_parts
                       a shipped ratio that disagrees with the ratio recomputed from the
                       parts shipped beside it (one row per row): `ratios` maps the column
                       to its `numerator` and `denominator` (SQL expressions over the row),
                       a `scale` (1) and a relative `tolerance` (1e-6); the column must
                       equal scale * numerator / denominator within the tolerance, and be
                       null exactly when that is (a part null, or the denominator 0);
      relationships    a value that no row of the `to` model holds in its `field` (one row
                       per row, as in dbt's `relationships`; nulls pass): `relationships`
                       maps the column to `to` (a ref) and `field`. Only for a `to` model
                       upstream of the tested one (or the model itself): `dbt build` holds a
                       model's children behind a test only when every model the test reads is
                       upstream of them, so a relationship to any other model stays dbt's own
                       test, lest the model's other rules stop holding its children back
                       (tests/test_dagster.py checks it). -#}
{% test column_rules(model, not_null=[], unique=[], accepted_values={}, ratios={},
                     relationships={}) %}
    {%- if not_null is string or unique is string or accepted_values is not mapping
        or ratios is not mapping or relationships is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "column_rules on " ~ model ~ ": not_null and unique take lists of columns, "
            ~ "accepted_values a mapping of column to values, ratios a mapping of column to "
            ~ "its numerator and denominator, relationships a mapping of column to its `to` "
            ~ "model and `field`") }}
    {%- endif -%}
    {%- set text = dbt.type_string() -%}
    {%- set checks = [] -%}
    {%- for column in not_null -%}
        {%- do checks.append(
            "select 'not_null' as rule, '" ~ column ~ "' as column_name, "
            ~ "cast(null as " ~ text ~ ") as value from " ~ model
            ~ " where " ~ column ~ " is null"
        ) -%}
    {%- endfor -%}
    {%- for key in unique -%}
        {%- if key is string -%}
            {%- do checks.append(
                "select 'unique' as rule, '" ~ key ~ "' as column_name, "
                ~ "cast(" ~ key ~ " as " ~ text ~ ") as value from " ~ model
                ~ " where " ~ key ~ " is not null group by " ~ key ~ " having count(*) > 1"
            ) -%}
        {%- else -%}
            {%- set columns = key | join(', ') -%}
            {%- set parts = [] -%}
            {%- for column in key -%}
                {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ text ~ "), 'null')") -%}
            {%- endfor -%}
            {%- do checks.append(
                "select 'unique' as rule, '" ~ columns ~ "' as column_name, "
                ~ (parts | join(" || ', ' || ")) ~ " as value from " ~ model
                ~ " group by " ~ columns ~ " having count(*) > 1"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for column, values in accepted_values.items() -%}
        {%- set quoted = [] -%}
        {%- for value in values -%}
            {%- do quoted.append("'" ~ dbt.escape_single_quotes(value | string) ~ "'") -%}
        {%- endfor -%}
        {%- do checks.append(
            "select distinct 'accepted_values' as rule, '" ~ column ~ "' as column_name, "
            ~ "cast(" ~ column ~ " as " ~ text ~ ") as value from " ~ model
            ~ " where " ~ column ~ " not in (" ~ (quoted | join(', ')) ~ ")"
        ) -%}
    {%- endfor -%}
    {%- for column, parts in ratios.items() -%}
        {%- if parts is not mapping or 'numerator' not in parts or 'denominator' not in parts -%}
            {{ exceptions.raise_compiler_error(
                "column_rules on " ~ model ~ ": the ratio " ~ column
                ~ " needs a numerator and a denominator") }}
        {%- endif -%}
        {%- do checks.append(
            "select 'ratio_matches_parts' as rule, '" ~ column ~ "' as column_name, "
            ~ "cast(shipped as " ~ text ~ ") as value from (select " ~ column ~ " as shipped, "
            ~ (parts.get('scale', 1) | string) ~ " * cast(" ~ parts.numerator ~ " as "
            ~ ex_type_double() ~ ") / nullif(" ~ parts.denominator ~ ", 0) as recomputed from "
            ~ model ~ ") as ratio_parts where (shipped is null) <> (recomputed is null)"
            ~ " or abs(shipped - recomputed) > " ~ (parts.get('tolerance', 1e-6) | string)
            ~ " * greatest(abs(recomputed), 1.0)"
        ) -%}
    {%- endfor -%}
    {%- for column, parent in relationships.items() -%}
        {%- if parent is not mapping or 'to' not in parent or 'field' not in parent -%}
            {{ exceptions.raise_compiler_error(
                "column_rules on " ~ model ~ ": the relationship of " ~ column
                ~ " needs `to` (a ref) and `field`") }}
        {%- endif -%}
        {%- do checks.append(
            "select 'relationships' as rule, '" ~ column ~ "' as column_name, "
            ~ "cast(child." ~ column ~ " as " ~ text ~ ") as value from (select " ~ column
            ~ " from " ~ model ~ ") as child"
            ~ " left join " ~ parent.to ~ " as parent on child." ~ column ~ " = parent."
            ~ parent.field ~ " where child." ~ column ~ " is not null and parent."
            ~ parent.field ~ " is null"
        ) -%}
    {%- endfor -%}
    {%- if not checks -%}
        {{ exceptions.raise_compiler_error("column_rules on " ~ model ~ ": no rule given") }}
    {%- endif -%}
    {{ checks | join('\nunion all\n') }}
{% endtest %}
