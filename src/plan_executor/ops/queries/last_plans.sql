-- The last plans executed, newest first: status, items filled, dollars sold and bought, and the
-- implementation shortfall (notional-weighted slippage against the arrival mid, in bps).
SELECT
    r.started_at,
    r.plan_id,
    r.attempt,
    r.status,
    r.summary.items AS items,
    r.summary.filled AS items_filled,
    r.summary.filled_sell_notional AS sold,
    r.summary.filled_buy_notional AS bought,
    r.summary.implementation_shortfall_bps AS shortfall_bps,
    r.duration_ms
FROM results AS r
WHERE r.event_id IS NOT NULL
ORDER BY r.started_at DESC, r.attempt DESC
LIMIT 20
