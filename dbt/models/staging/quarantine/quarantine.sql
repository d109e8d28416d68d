{#- Every raw row staging rejects, one row each, with the raw table it came from, its key,
    the reason and the dlt load that wrote it. Rows and reasons come from the base models,
    which staging reads too, so the two can never disagree. Older copies of a record
    (`_dedup_rank` > 1) are neither staged nor quarantined: the record's latest version
    stands for them (the reconciliation test counts them separately). Answer-level
    rejections use the key "<response_id>:<question_id>" under raw_qualtrics.survey_responses. -#}
{#- (base model, raw table) of every entry of the raw-table registry (dbt_project.yml
    `vars: raw_tables`), and of the rows its staging explodes out of each raw row. -#}
{%- set checked_tables = [] -%}
{%- for entry in raw_tables('base_model') -%}
    {%- do checked_tables.append((entry.base_model, entry.table)) -%}
    {%- if entry.exploded -%}
        {%- do checked_tables.append((entry.exploded.base_model, entry.table)) -%}
    {%- endif -%}
{%- endfor -%}
with

quarantined_rows as (
    {%- for base_model, source_table in checked_tables %}
        select
            cast('{{ source_table }}' as {{ dbt.type_string() }}) as source_table,
            cast(_source_key as {{ dbt.type_string() }}) as source_key,
            cast(_quarantine_reason as {{ dbt.type_string() }}) as reason,
            cast(_dlt_load_id as {{ dbt.type_string() }}) as _dlt_load_id
        from {{ ref(base_model) }}
        where _quarantine_reason is not null and _dedup_rank = 1
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from quarantined_rows
