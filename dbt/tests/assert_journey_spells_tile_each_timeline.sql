-- A failing row: a spell that does not follow on from its customer's previous one (a gap or
-- an overlap), a customer whose spells do not start at its first stage-setting touchpoint,
-- or a customer with other than exactly one current spell.
with

spells as (
    select * from {{ ref('fct_customer_stage_spells') }}
),

ordered as (
    select
        spells.*,
        lag(exited_at) over (partition by customer_id order by spell_number) as previous_exited_at,
        lag(entered_at) over (partition by customer_id order by spell_number) as previous_entered_at
    from spells
),

broken_links as (
    select customer_id, spell_number, 'gap or overlap' as problem
    from ordered
    where
        spell_number > 1
        and (previous_exited_at is null or previous_exited_at <> entered_at or previous_entered_at >= entered_at)
),

current_counts as (
    select customer_id, 0 as spell_number, 'not exactly one current spell' as problem
    from spells
    group by customer_id
    having sum(case when is_current then 1 else 0 end) <> 1
),

numbering as (
    select customer_id, 0 as spell_number, 'spell numbers not 1..n' as problem
    from spells
    group by customer_id
    having min(spell_number) <> 1 or max(spell_number) <> count(*)
)

select * from broken_links
union all
select * from current_counts
union all
select * from numbering
