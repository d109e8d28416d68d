-- A failing row: a staged email that is not lower(trim()) of itself, so identity matching
-- by email (agents to employees, respondents to contacts) would miss it.
with

emails as (
    select
        'stg_hubspot__contacts' as model_name,
        email
    from {{ ref('stg_hubspot__contacts') }}
    union all
    select
        'stg_zendesk__users' as model_name,
        email
    from {{ ref('stg_zendesk__users') }}
    union all
    select
        'stg_bamboohr__employees' as model_name,
        work_email as email
    from {{ ref('stg_bamboohr__employees') }}
    union all
    select
        'stg_qualtrics__survey_responses' as model_name,
        respondent_email as email
    from {{ ref('stg_qualtrics__survey_responses') }}
)

select * from emails
where email <> lower(trim(email)) or email = ''
