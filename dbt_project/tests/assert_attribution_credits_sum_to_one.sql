-- Each won opportunity's revenue is credited exactly once under every attribution model.
select tenant_id, opportunity_id
from {{ ref('revenue_attribution') }}
group by tenant_id, opportunity_id
having abs(sum(first_touch_credit) - 1) > 1e-9
    or abs(sum(last_touch_credit) - 1) > 1e-9
    or abs(sum(linear_credit) - 1) > 1e-9
    or abs(sum(position_based_credit) - 1) > 1e-9
