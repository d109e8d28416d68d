-- A failing row: a raw table of which more than var('max_quarantine_share') (default 20%)
-- of its rows were quarantined. Dirty data at that level means the source is broken, not
-- noisy: publishing marts built from the remainder would mislead, so this test blocks.
{{ config(severity='error') }}

with quarantined as (
    select source_table, count(*) as quarantined_rows
    from {{ ref('quarantine') }}
    -- row-level rejections; single survey answers are checked against all answers below
    where not (source_table = 'raw_qualtrics.survey_responses' and source_key like '%:%')
    group by source_table
),

answers as (
    select 'raw_qualtrics.survey_answers' as source_table, count(*) as quarantined_rows
    from {{ ref('quarantine') }}
    where source_table = 'raw_qualtrics.survey_responses' and source_key like '%:%'
),

totals as (
{%- set tables = [
    ('raw_hubspot', 'companies'), ('raw_hubspot', 'contacts'), ('raw_hubspot', 'deals'),
    ('raw_hubspot', 'deal_companies'),
    ('raw_zendesk', 'tickets'), ('raw_zendesk', 'users'), ('raw_zendesk', 'organizations'),
    ('raw_bamboohr', 'employees'), ('raw_bamboohr', 'job_info'), ('raw_bamboohr', 'employment_status'),
    ('raw_qualtrics', 'survey_responses'),
] %}
{%- for schema, table in tables %}
    select '{{ schema }}.{{ table }}' as source_table, count(*) as raw_rows
    from {{ source(schema, table) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
{%- endfor %}
    union all
    -- answers: every scored answer is either staged or quarantined
    select
        'raw_qualtrics.survey_answers' as source_table,
        (select count(*) from {{ ref('stg_qualtrics__survey_answers') }})
        + (select quarantined_rows from answers) as raw_rows
)

select
    totals.source_table,
    totals.raw_rows,
    coalesce(q.quarantined_rows, a.quarantined_rows, 0) as quarantined_rows
from totals
left join quarantined as q on totals.source_table = q.source_table
left join answers as a on totals.source_table = a.source_table
where coalesce(q.quarantined_rows, a.quarantined_rows, 0)
    > {{ var('max_quarantine_share', 0.2) }} * totals.raw_rows
