{#- One row per customer touchpoint across HubSpot, Zendesk and Qualtrics (Activity-Schema
    style; int_customer_touchpoints says what each activity is), with the customer's journey
    stage at that moment (the stage spell holding it; a touchpoint that moves the stage
    carries the stage it entered) and its occurrence number: the n-th time this customer did
    this activity. Touchpoints before the customer's first stage have no stage. Contacts appear
    nowhere: the customer is the company. -#}
with

touchpoints as (
    select * from {{ ref('int_customer_touchpoints') }}
),

spells as (
    select * from {{ ref('fct_customer_stage_spells') }}
),

final as (
    select
        touchpoints.touchpoint_id,
        touchpoints.customer_id,
        touchpoints.is_crm_customer,
        touchpoints.occurred_at,
        touchpoints.source_system,
        touchpoints.activity,
        touchpoints.activity_value,
        -- bigint on every engine (Spark's row_number is an int)
        cast(
            row_number() over (
                partition by touchpoints.customer_id, touchpoints.activity
                order by touchpoints.occurred_at, touchpoints.touchpoint_id
            ) as {{ dbt.type_bigint() }}
        ) as occurrence_number,
        spells.journey_stage,
        spells.spell_id,
        touchpoints.channel,
        touchpoints.score,
        touchpoints.revenue,
        touchpoints.team,
        touchpoints.employee_id,
        touchpoints.deal_id,
        touchpoints.ticket_id,
        touchpoints.response_id
    from touchpoints
    left join spells
        on
            touchpoints.customer_id = spells.customer_id
            and touchpoints.occurred_at >= spells.entered_at
            and (spells.exited_at is null or touchpoints.occurred_at < spells.exited_at)
)

select * from final
