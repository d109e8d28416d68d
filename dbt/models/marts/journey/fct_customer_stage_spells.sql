{#- One row per customer x journey-stage spell: the customer's stage from `entered_at` up to
    `exited_at` (exclusive; null while current). The spells of a customer tile its timeline
    from its first stage-setting touchpoint on, without gaps or overlaps.

    How stages are placed (seeds journey_stage_rules and journey_stages, which a company can
    override; DECISIONS.md, "Journey"):
    - a touchpoint matching an `enter` rule (source_system, activity, activity_value, `*` = any
      value) moves the customer to the rule's stage at that instant; the same stage again
      changes nothing (the spell goes on from its first entry);
    - an `initial` rule applies only before the customer has any `enter` touchpoint: a
      customer known only from the help desk gets a support spell from its first ticket;
    - a rule with `max_days` and `then_stage` ends its spell after that many days in the
      then-stage, unless another stage came first (onboarding: the first 90 days, then support);
    - touchpoints at the same instant apply in order of the touchpoint id.
    `is_regression`: the stage comes earlier in the order than the one before, except within
    the customer stages (support, renewal and advocacy follow each other as a cycle).
    `days_in_stage` counts to the exit, or for the current spell to the newest touchpoint the
    warehouse holds (its as-of). -#}
with

touchpoints as (
    select * from {{ ref('int_customer_touchpoints') }}
),

rules as (
    select * from {{ ref('journey_stage_rules') }}
),

stages as (
    select * from {{ ref('journey_stages') }}
),

as_of as (
    select max(occurred_at) as as_of_at from touchpoints
),

matched as (
    select
        touchpoints.customer_id,
        touchpoints.is_crm_customer,
        touchpoints.touchpoint_id,
        touchpoints.occurred_at,
        touchpoints.activity,
        rules.journey_stage,
        rules.rule_kind,
        rules.max_days,
        rules.then_stage
    from touchpoints
    inner join rules
        on
            touchpoints.source_system = rules.source_system
            and touchpoints.activity = rules.activity
            and (rules.activity_value = '*' or touchpoints.activity_value = rules.activity_value)
),

first_entries as (
    select
        customer_id,
        min(occurred_at) as first_enter_at
    from matched
    where rule_kind = 'enter'
    group by customer_id
),

stage_events as (
    select matched.*
    from matched
    left join first_entries
        on matched.customer_id = first_entries.customer_id
    where
        matched.rule_kind = 'enter'
        or (
            matched.rule_kind = 'initial'
            and (first_entries.first_enter_at is null or matched.occurred_at < first_entries.first_enter_at)
        )
),

-- the first event of each run of one stage starts a spell
changes as (
    select *
    from (
        select
            stage_events.*,
            lag(stage_events.journey_stage) over (
                partition by stage_events.customer_id order by stage_events.occurred_at, stage_events.touchpoint_id
            ) as previous_stage
        from stage_events
    ) as sequenced
    where previous_stage is null or previous_stage <> journey_stage
),

bounded as (
    select
        changes.*,
        lead(changes.occurred_at) over (
            partition by changes.customer_id order by changes.occurred_at, changes.touchpoint_id
        ) as next_change_at
    from changes
),

-- a stage with a time limit gives way to its then-stage when no other stage came first
expiries as (
    select
        bounded.customer_id,
        bounded.is_crm_customer,
        'expiry:' || bounded.touchpoint_id as touchpoint_id,
        {{ dbt.dateadd('day', 'bounded.max_days', 'bounded.occurred_at') }} as occurred_at,
        'stage_expired' as activity,
        bounded.then_stage as journey_stage
    from bounded
    cross join as_of
    where
        bounded.max_days is not null
        and bounded.then_stage is not null
        and {{ dbt.dateadd('day', 'bounded.max_days', 'bounded.occurred_at') }} <= as_of.as_of_at
        and (
            bounded.next_change_at is null
            or {{ dbt.dateadd('day', 'bounded.max_days', 'bounded.occurred_at') }} < bounded.next_change_at
        )
),

all_changes as (
    select
        customer_id,
        is_crm_customer,
        touchpoint_id,
        occurred_at,
        activity,
        journey_stage
    from changes
    union all
    select
        customer_id,
        is_crm_customer,
        touchpoint_id,
        occurred_at,
        activity,
        journey_stage
    from expiries
),

spells as (
    select *
    from (
        select
            all_changes.*,
            lag(all_changes.journey_stage) over (
                partition by all_changes.customer_id order by all_changes.occurred_at, all_changes.touchpoint_id
            ) as previous_stage
        from all_changes
    ) as sequenced
    where previous_stage is null or previous_stage <> journey_stage
),

sequenced_spells as (
    select
        spells.*,
        -- bigint on every engine (Spark's row_number is an int)
        cast(
            row_number() over (
                partition by spells.customer_id order by spells.occurred_at, spells.touchpoint_id
            ) as {{ dbt.type_bigint() }}
        ) as spell_number,
        lead(spells.occurred_at) over (
            partition by spells.customer_id order by spells.occurred_at, spells.touchpoint_id
        ) as exited_at
    from spells
),

final as (
    select
        sequenced_spells.customer_id || ':' || cast(sequenced_spells.spell_number as {{ dbt.type_string() }})
            as spell_id,
        sequenced_spells.customer_id,
        sequenced_spells.is_crm_customer,
        sequenced_spells.spell_number,
        sequenced_spells.journey_stage,
        stages.stage_order,
        stages.stage_group,
        sequenced_spells.occurred_at as entered_at,
        sequenced_spells.exited_at,
        sequenced_spells.exited_at is null as is_current,
        {{ cx_minutes_between('sequenced_spells.occurred_at', 'coalesce(sequenced_spells.exited_at, as_of.as_of_at)') }}
        / 1440.0 as days_in_stage,
        sequenced_spells.previous_stage,
        coalesce(
            stages.stage_order < previous_stages.stage_order
            and not (stages.stage_group = 'customer' and previous_stages.stage_group = 'customer'),
            false
        ) as is_regression,
        sequenced_spells.activity as entered_by_activity,
        sequenced_spells.touchpoint_id as entered_by_touchpoint_id
    from sequenced_spells
    cross join as_of
    left join stages
        on sequenced_spells.journey_stage = stages.journey_stage
    left join stages as previous_stages
        on sequenced_spells.previous_stage = previous_stages.journey_stage
)

select * from final
