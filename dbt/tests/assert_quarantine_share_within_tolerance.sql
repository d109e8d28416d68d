-- A failing row: a raw table of which more than var('max_quarantine_share') (default 20%)
-- of its rows were quarantined. Dirty data at that level means the source is broken, not
-- noisy: publishing marts built from the remainder would mislead, so this test blocks.
-- The tables are the registry's entries with `quarantine_share: true` (dbt_project.yml
-- `vars: raw_tables`); rows their staging explodes out of each raw row (survey answers,
-- quarantined under the raw table with keys "<raw key>:<part>") are judged against all such
-- rows, as "<source>.<exploded name>" (raw_qualtrics.survey_answers).
{{ config(severity='error') }}
{%- set tables = raw_tables('quarantine_share') %}
{%- set exploded = tables | selectattr('exploded') | list %}

with quarantined as (
    select source_table, count(*) as quarantined_rows
    from {{ ref('quarantine') }}
    -- row-level rejections; exploded rows (single survey answers) are checked below
    {%- for t in exploded %}
    {{ 'where not (' if loop.first else '    or ' }}source_table = '{{ t.table }}' and source_key like '%:%'{{ ')' if loop.last }}
    {%- endfor %}
    group by source_table
),

exploded as (
{%- for t in exploded %}
    select '{{ t.source_name }}.{{ t.exploded.name }}' as source_table, count(*) as quarantined_rows
    from {{ ref('quarantine') }}
    where source_table = '{{ t.table }}' and source_key like '%:%'
    {%- if not loop.last %}
    union all
    {%- endif %}
{%- else %}
    select cast(null as {{ dbt.type_string() }}) as source_table, 0 as quarantined_rows
    where false
{%- endfor %}
),

totals as (
{%- for t in tables %}
    select '{{ t.table }}' as source_table, count(*) as raw_rows
    from {{ source(t.source_name, t.table_name) }}
    {%- if not loop.last or exploded %}
    union all
    {%- endif %}
{%- endfor %}
{%- for t in exploded %}
    -- every exploded row (scored answer) is either staged or quarantined
    select
        '{{ t.source_name }}.{{ t.exploded.name }}' as source_table,
        (select count(*) from {{ ref(t.exploded.staging_model) }})
        + (
            select quarantined_rows from exploded
            where source_table = '{{ t.source_name }}.{{ t.exploded.name }}'
        ) as raw_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
{%- endfor %}
)

select
    totals.source_table,
    totals.raw_rows,
    coalesce(q.quarantined_rows, e.quarantined_rows, 0) as quarantined_rows
from totals
left join quarantined as q on totals.source_table = q.source_table
left join exploded as e on totals.source_table = e.source_table
where coalesce(q.quarantined_rows, e.quarantined_rows, 0)
    > {{ var('max_quarantine_share', 0.2) }} * totals.raw_rows
