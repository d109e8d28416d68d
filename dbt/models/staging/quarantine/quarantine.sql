{#- Every raw row staging rejects, one row each, with the raw table it came from, its key,
    the reason and the dlt load that wrote it. Rows and reasons come from the base models,
    which staging reads too, so the two can never disagree. Older copies of a record
    (`_dedup_rank` > 1) are neither staged nor quarantined: the record's latest version
    stands for them (the reconciliation test counts them separately). Answer-level
    rejections use the key "<response_id>:<question_id>" under raw_qualtrics.survey_responses. -#}
{%- set checked_tables = [
    ('base_hubspot__companies', 'raw_hubspot.companies'),
    ('base_hubspot__contacts', 'raw_hubspot.contacts'),
    ('base_hubspot__deals', 'raw_hubspot.deals'),
    ('base_hubspot__deal_companies', 'raw_hubspot.deal_companies'),
    ('base_zendesk__tickets', 'raw_zendesk.tickets'),
    ('base_zendesk__ticket_events', 'raw_zendesk.ticket_events'),
    ('base_zendesk__ticket_child_events', 'raw_zendesk.ticket_events__child_events'),
    ('base_zendesk__users', 'raw_zendesk.users'),
    ('base_zendesk__organizations', 'raw_zendesk.organizations'),
    ('base_zendesk__groups', 'raw_zendesk.groups'),
    ('base_zendesk__schedules', 'raw_zendesk.schedules'),
    ('base_zendesk__schedule_intervals', 'raw_zendesk.schedules__intervals'),
    ('base_zendesk__schedule_holidays', 'raw_zendesk.schedule_holidays'),
    ('base_bamboohr__employees', 'raw_bamboohr.employees'),
    ('base_bamboohr__job_info', 'raw_bamboohr.job_info'),
    ('base_bamboohr__employment_status', 'raw_bamboohr.employment_status'),
    ('base_qualtrics__surveys', 'raw_qualtrics.surveys'),
    ('base_qualtrics__survey_questions', 'raw_qualtrics.survey_questions'),
    ('base_qualtrics__survey_responses', 'raw_qualtrics.survey_responses'),
    ('base_qualtrics__survey_answers', 'raw_qualtrics.survey_responses'),
] -%}
with

quarantined_rows as (
    {%- for base_model, source_table in checked_tables %}
        select
            cast('{{ source_table }}' as varchar) as source_table,
            cast(_source_key as varchar) as source_key,
            cast(_quarantine_reason as varchar) as reason,
            cast(_dlt_load_id as varchar) as _dlt_load_id
        from {{ ref(base_model) }}
        where _quarantine_reason is not null and _dedup_rank = 1
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from quarantined_rows
