{{
    config(
        materialized=incremental_or_table(),
        unique_key='response_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=[
            "{% if is_incremental() %}
            delete from {{ this }} as published
            where not exists (
                select 1
                from {{ ref('stg_qualtrics__survey_responses') }} as responses
                where responses.response_id = published.response_id
            )
            {% endif %}"
        ]
    )
}}
{#- One row per customer survey response and kind: a relationship NPS response gives an
    `nps` row; a post-ticket CSAT response gives a `csat` and a `ces` row. `score` is the
    valid answer, null when that question was unanswered or its answer was invalid
    (quarantined in staging).
    Incremental: a run rebuilds (all rows of) every response recorded since `lookback_days`
    before the newest `recorded_at` already in the table, every response not yet in the
    table, and every response whose identity links (customer, contact, ticket) now differ
    from the published ones (contacts/companies/organizations arriving or changing later);
    the post-hook removes responses no longer valid. The result equals a full refresh. -#}
with

responses as (
    select * from {{ ref('stg_qualtrics__survey_responses') }}
),

questions as (
    select * from {{ ref('stg_qualtrics__survey_questions') }}
),

answers as (
    select * from {{ ref('stg_qualtrics__survey_answers') }}
),

nps_respondents as (
    select * from {{ ref('int_nps_respondent_contacts') }}
),

csat_tickets as (
    select * from {{ ref('int_csat_response_tickets') }}
),

{% if is_incremental() %}
    cutoff as (
        select
            coalesce(
                {{ dbt.dateadd('day', -var('lookback_days'), 'max(recorded_at)') }},
                cast('1900-01-01' as {{ dbt.type_timestamp() }})
            ) as cutoff_at
        from {{ this }}
    ),

    current_links as (
        select
            cast(response_id as {{ dbt.type_string() }}) as response_id,
            cast(customer_id as {{ dbt.type_string() }}) as customer_id,
            cast(contact_id as {{ dbt.type_string() }}) as contact_id,
            cast(null as {{ dbt.type_bigint() }}) as ticket_id
        from nps_respondents
        union all
        select
            cast(response_id as {{ dbt.type_string() }}) as response_id,
            cast(customer_id as {{ dbt.type_string() }}) as customer_id,
            cast(contact_id as {{ dbt.type_string() }}) as contact_id,
            cast(ticket_id as {{ dbt.type_bigint() }}) as ticket_id
        from csat_tickets
    ),

    published_links as (
        select distinct
            response_id,
            customer_id,
            contact_id,
            ticket_id
        from {{ this }}
    ),

    changed_responses as (
        select responses.response_id
        from responses
        cross join cutoff
        where responses.recorded_at >= cutoff.cutoff_at
        union
        select current_links.response_id
        from current_links
        left join published_links
            on current_links.response_id = published_links.response_id
        where
            published_links.response_id is null
            or current_links.customer_id is distinct from published_links.customer_id
            or current_links.contact_id is distinct from published_links.contact_id
            or current_links.ticket_id is distinct from published_links.ticket_id
    ),
{% endif %}

selected_responses as (
    select responses.*
    from responses
    {% if is_incremental() %}
        inner join changed_responses
            on responses.response_id = changed_responses.response_id
    {% endif %}
),

response_questions as (
    select
        responses.response_id,
        responses.survey_kind as survey_type,
        questions.question_role as survey_kind,
        questions.question_id,
        responses.recorded_at
    from selected_responses as responses
    inner join questions
        on responses.survey_id = questions.survey_id
    where
        (responses.survey_kind = 'nps' and questions.question_role = 'nps')
        or (responses.survey_kind = 'csat' and questions.question_role in ('csat', 'ces'))
),

scored as (
    select
        response_questions.response_id,
        response_questions.survey_type,
        response_questions.survey_kind,
        answers.score,
        response_questions.recorded_at
    from response_questions
    left join answers
        on
            response_questions.response_id = answers.response_id
            and response_questions.question_id = answers.question_id
),

final as (
    select
        cast(scored.response_id as {{ dbt.type_string() }}) as response_id,
        cast(scored.survey_kind as {{ dbt.type_string() }}) as survey_kind,
        cast(scored.score as {{ dbt.type_int() }}) as score,
        scored.recorded_at,
        cast(
            coalesce(nps_respondents.customer_id, csat_tickets.customer_id)
            as {{ dbt.type_string() }}
        ) as customer_id,
        cast(
            coalesce(nps_respondents.contact_id, csat_tickets.contact_id)
            as {{ dbt.type_string() }}
        ) as contact_id,
        cast(csat_tickets.ticket_id as {{ dbt.type_bigint() }}) as ticket_id
    from scored
    left join nps_respondents
        on
            scored.survey_type = 'nps'
            and scored.response_id = nps_respondents.response_id
    left join csat_tickets
        on
            scored.survey_type = 'csat'
            and scored.response_id = csat_tickets.response_id
)

select * from final
