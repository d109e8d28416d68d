{#- 95% intervals for the survey metrics of small samples (cx_metrics_monthly). z = 1.96.
    Each is null without answers; the bounds stay within the metric's scale. -#}

{#- NPS (100-point scale): an adjusted-Wald interval. Three pseudo-answers are added before
    the Wald formula (0.75 promoter, 1.5 passive, 0.75 detractor: n + 3), so a handful of
    unanimous answers does not get a zero-width interval:
    p = (promoters + 0.75) / (n + 3), d = (detractors + 0.75) / (n + 3),
    bound = 100 x ((p - d) -/+ 1.96 x sqrt((p + d - (p - d)^2) / (n + 3))), clipped to
    [-100, 100]. `side`: 'low' or 'high'. -#}
{% macro cx_nps_interval(promoters, detractors, respondents, side) -%}
    {%- set n = '(cast(' ~ respondents ~ ' as ' ~ ex_type_double() ~ ') + 3.0)' -%}
    {%- set p = '((cast(' ~ promoters ~ ' as ' ~ ex_type_double() ~ ') + 0.75) / ' ~ n ~ ')' -%}
    {%- set d = '((cast(' ~ detractors ~ ' as ' ~ ex_type_double() ~ ') + 0.75) / ' ~ n ~ ')' -%}
    {%- set half = '1.96 * sqrt((' ~ p ~ ' + ' ~ d ~ ' - (' ~ p ~ ' - ' ~ d ~ ') * (' ~ p ~ ' - ' ~ d ~ ')) / ' ~ n ~ ')' -%}
    case
        when {{ respondents }} > 0 then
            {%- if side == 'low' %}
            100.0 * greatest(-1.0, ({{ p }} - {{ d }}) - {{ half }})
            {%- else %}
            100.0 * least(1.0, ({{ p }} - {{ d }}) + {{ half }})
            {%- endif %}
    end
{%- endmacro %}

{#- A share on a 100-point scale (CSAT: satisfied / answers): the Wilson score interval,
    100 x (s/n + z^2/2n -/+ z sqrt(s/n (1 - s/n) / n + z^2/4n^2)) / (1 + z^2/n). -#}
{% macro cx_wilson_interval(successes, n, side) -%}
    {%- set nn = 'cast(' ~ n ~ ' as ' ~ ex_type_double() ~ ')' -%}
    {%- set p = '(cast(' ~ successes ~ ' as ' ~ ex_type_double() ~ ') / ' ~ nn ~ ')' -%}
    {%- set sign = '-' if side == 'low' else '+' -%}
    case
        when {{ n }} > 0 then
            100.0 * (
                {{ p }} + 3.8416 / (2.0 * {{ nn }})
                {{ sign }} 1.96 * sqrt({{ p }} * (1.0 - {{ p }}) / {{ nn }} + 3.8416 / (4.0 * {{ nn }} * {{ nn }}))
            ) / (1.0 + 3.8416 / {{ nn }})
    end
{%- endmacro %}

{#- A mean of answers on [lo, hi] (CES, 1-7): mean -/+ 1.96 x sample standard deviation /
    sqrt(n), clipped to the scale; null below 2 answers (no spread to estimate). -#}
{% macro cx_mean_interval(score_sum, n, stddev, side, lo, hi) -%}
    {%- set nn = 'cast(' ~ n ~ ' as ' ~ ex_type_double() ~ ')' -%}
    {%- set mean = '(cast(' ~ score_sum ~ ' as ' ~ ex_type_double() ~ ') / ' ~ nn ~ ')' -%}
    {%- set half = '1.96 * ' ~ stddev ~ ' / sqrt(' ~ nn ~ ')' -%}
    case
        when {{ n }} >= 2 then
            {%- if side == 'low' %}
            greatest({{ lo }}.0, {{ mean }} - {{ half }})
            {%- else %}
            least({{ hi }}.0, {{ mean }} + {{ half }})
            {%- endif %}
    end
{%- endmacro %}
