-- A failing row: a raw table whose rows are not all accounted for, i.e. raw rows differ from
-- staged rows + quarantined rows + superseded duplicates (rows sharing a key with a newer
-- version). Something was lost or counted twice between raw and staging/quarantine.
-- Duplicates are counted from raw here (non-null keys minus distinct keys), independently of
-- the base models' ranking. Answer-level quarantine rows ("<response_id>:<question_id>") are
-- reconciled by tests/test_staging.py, not here.
-- The tables, their staging models and key expressions come from the raw-table registry
-- (dbt_project.yml `vars: raw_tables`); a registered child table (`parent`) reads its key
-- through its dlt parent.
{% set checks = [] -%}
{% set exploded = [] -%}
{% for entry in raw_tables('staging_model') -%}
    {% set from = source(entry.source_name, entry.table_name) ~ ' as raw' -%}
    {% if entry.parent -%}
        {% set from = from ~ ' left join ' ~ source(entry.source_name, entry.parent)
            ~ ' as parent on raw._dlt_parent_id = parent._dlt_id' -%}
    {% endif -%}
    {% do checks.append({'table': entry.table, 'model': entry.staging_model, 'key': entry.raw_key, 'from': from}) -%}
    {% if entry.exploded %}{% do exploded.append(entry.table) %}{% endif -%}
{% endfor -%}

with

quarantined as (
    select
        source_table,
        count(*) as quarantined_rows
    from {{ ref('quarantine') }}
    -- answer-level rows carry "<response_id>:<question_id>"; row-level keys of single-key
    -- tables never contain ":" (a missing key is "_dlt_id=<id>")
    {%- for table in exploded %}
    {{ 'where not (' if loop.first else '    or ' }}source_table = '{{ table }}' and source_key like '%:%'{{ ')' if loop.last }}
    {%- endfor %}
    group by source_table
),

counts as (
    {%- for check in checks %}
        select
            '{{ check.table }}' as source_table,
            (select count(*) from {{ check.from }}) as raw_rows,
            (select count({{ check.key }}) - count(distinct {{ check.key }}) from {{ check.from }}) as duplicate_rows,
            (select count(*) from {{ ref(check.model) }}) as staged_rows
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

reconciled as (
    select
        counts.source_table,
        counts.raw_rows,
        counts.staged_rows,
        coalesce(quarantined.quarantined_rows, 0) as quarantined_rows,
        counts.duplicate_rows
    from counts
    left join quarantined
        on counts.source_table = quarantined.source_table
)

select * from reconciled
where raw_rows <> staged_rows + quarantined_rows + duplicate_rows
