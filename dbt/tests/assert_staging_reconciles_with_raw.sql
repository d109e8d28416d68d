-- A failing row: a raw table whose rows are not all accounted for, i.e. raw rows differ from
-- staged rows + quarantined rows + superseded duplicates (rows sharing a key with a newer
-- version). Something was lost or counted twice between raw and staging/quarantine.
-- Duplicates are counted from raw here (non-null keys minus distinct keys), independently of
-- the base models' ranking. Answer-level quarantine rows ("<response_id>:<question_id>") are
-- reconciled by tests/test_staging.py, not here.
{% set checks = [
    {'table': 'raw_hubspot.companies', 'model': 'stg_hubspot__companies', 'key': "nullif(trim(raw.id), '')",
     'from': source('raw_hubspot', 'companies') ~ ' as raw'},
    {'table': 'raw_hubspot.contacts', 'model': 'stg_hubspot__contacts', 'key': "nullif(trim(raw.id), '')",
     'from': source('raw_hubspot', 'contacts') ~ ' as raw'},
    {'table': 'raw_hubspot.deals', 'model': 'stg_hubspot__deals', 'key': "nullif(trim(raw.id), '')",
     'from': source('raw_hubspot', 'deals') ~ ' as raw'},
    {'table': 'raw_hubspot.deal_companies', 'model': 'stg_hubspot__deal_companies',
     'key': "nullif(trim(raw.deal_id), '') || ':' || cast(raw.company_id as varchar)",
     'from': source('raw_hubspot', 'deal_companies') ~ ' as raw'},
    {'table': 'raw_zendesk.tickets', 'model': 'stg_zendesk__tickets', 'key': 'raw.id',
     'from': source('raw_zendesk', 'tickets') ~ ' as raw'},
    {'table': 'raw_zendesk.ticket_events', 'model': 'stg_zendesk__ticket_events', 'key': 'raw.id',
     'from': source('raw_zendesk', 'ticket_events') ~ ' as raw'},
    {'table': 'raw_zendesk.ticket_events__child_events', 'model': 'stg_zendesk__ticket_child_events', 'key': 'raw.id',
     'from': source('raw_zendesk', 'ticket_events__child_events') ~ ' as raw'},
    {'table': 'raw_zendesk.users', 'model': 'stg_zendesk__users', 'key': 'raw.id',
     'from': source('raw_zendesk', 'users') ~ ' as raw'},
    {'table': 'raw_zendesk.organizations', 'model': 'stg_zendesk__organizations', 'key': 'raw.id',
     'from': source('raw_zendesk', 'organizations') ~ ' as raw'},
    {'table': 'raw_zendesk.groups', 'model': 'stg_zendesk__groups', 'key': 'raw.id',
     'from': source('raw_zendesk', 'groups') ~ ' as raw'},
    {'table': 'raw_zendesk.schedules', 'model': 'stg_zendesk__schedules', 'key': 'raw.id',
     'from': source('raw_zendesk', 'schedules') ~ ' as raw'},
    {'table': 'raw_zendesk.schedules__intervals', 'model': 'stg_zendesk__schedule_intervals',
     'key': "cast(parent.id as varchar) || ':' || cast(raw.start_time as varchar)",
     'from': source('raw_zendesk', 'schedules__intervals') ~ ' as raw left join '
        ~ source('raw_zendesk', 'schedules') ~ ' as parent on raw._dlt_parent_id = parent._dlt_id'},
    {'table': 'raw_zendesk.schedule_holidays', 'model': 'stg_zendesk__schedule_holidays', 'key': 'raw.id',
     'from': source('raw_zendesk', 'schedule_holidays') ~ ' as raw'},
    {'table': 'raw_bamboohr.employees', 'model': 'stg_bamboohr__employees', 'key': "nullif(trim(raw.id), '')",
     'from': source('raw_bamboohr', 'employees') ~ ' as raw'},
    {'table': 'raw_bamboohr.job_info', 'model': 'stg_bamboohr__job_info', 'key': "nullif(trim(raw.id), '')",
     'from': source('raw_bamboohr', 'job_info') ~ ' as raw'},
    {'table': 'raw_bamboohr.employment_status', 'model': 'stg_bamboohr__employment_status', 'key': "nullif(trim(raw.id), '')",
     'from': source('raw_bamboohr', 'employment_status') ~ ' as raw'},
    {'table': 'raw_qualtrics.surveys', 'model': 'stg_qualtrics__surveys', 'key': 'raw.id',
     'from': source('raw_qualtrics', 'surveys') ~ ' as raw'},
    {'table': 'raw_qualtrics.survey_questions', 'model': 'stg_qualtrics__survey_questions',
     'key': "nullif(trim(raw.survey_id), '') || ':' || nullif(trim(raw.question_id), '')",
     'from': source('raw_qualtrics', 'survey_questions') ~ ' as raw'},
    {'table': 'raw_qualtrics.survey_responses', 'model': 'stg_qualtrics__survey_responses',
     'key': "nullif(trim(raw.response_id), '')",
     'from': source('raw_qualtrics', 'survey_responses') ~ ' as raw'},
] -%}

with

quarantined as (
    select
        source_table,
        count(*) as quarantined_rows
    from {{ ref('quarantine') }}
    -- answer-level rows carry "<response_id>:<question_id>"; row-level keys of single-key
    -- tables never contain ":" (a missing key is "_dlt_id=<id>")
    where not (source_table = 'raw_qualtrics.survey_responses' and source_key like '%:%')
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
