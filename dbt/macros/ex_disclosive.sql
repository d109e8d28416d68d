{#- True when publishing these pulse-survey counts of a group (or of a difference between
    published groups, `prefix` naming the columns) would disclose individual answers:
    - fewer than var('min_respondents') respondents, eNPS respondents or engagement
      respondents stand behind them (k-anonymity); or
    - the answers are all in one category (homogeneity): every eNPS answer is a promoter,
      every one a passive or every one a detractor, or every engagement answer favorable,
      or none. Then each respondent's category is known to anyone who knows who is in the
      group (a team of 5 that all answered, as the HR figures beside it show), whatever
      its size.
    `allow_empty`: a group of 0 respondents discloses nothing (for differences: a
    department minus teams that cover all of it). -#}
{% macro ex_is_disclosive(prefix='', allow_empty=false) -%}
    {%- set k = var('min_respondents') -%}
    {%- set small -%}
        {%- if allow_empty -%} between 1 and {{ k - 1 }}{%- else -%} < {{ k }}{%- endif -%}
    {%- endset -%}
    (
        {{ prefix }}respondents {{ small }}
        or {{ prefix }}enps_respondents {{ small }}
        or {{ prefix }}engagement_respondents {{ small }}
        or (
            {{ prefix }}enps_respondents > 0
            and (
                {{ prefix }}enps_promoters = {{ prefix }}enps_respondents
                or {{ prefix }}enps_passives = {{ prefix }}enps_respondents
                or {{ prefix }}enps_detractors = {{ prefix }}enps_respondents
            )
        )
        or (
            {{ prefix }}engagement_answers > 0
            and (
                {{ prefix }}engagement_favorable = {{ prefix }}engagement_answers
                or {{ prefix }}engagement_favorable = 0
            )
        )
    )
{%- endmacro %}
