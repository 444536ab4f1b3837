-- Plans that timed out or failed, newest first, with the reason and what did fill.
SELECT
    r.started_at,
    r.plan_id,
    r.attempt,
    r.status,
    r.reason,
    r.summary.items AS items,
    r.summary.failed AS items_failed,
    r.summary.canceled AS items_canceled,
    r.summary.filled_sell_notional AS sold,
    r.summary.filled_buy_notional AS bought
FROM results AS r
WHERE r.event_id IS NOT NULL
    AND r.status IN ('TIMED_OUT', 'FAILURE')
ORDER BY r.started_at DESC, r.attempt DESC
LIMIT 20
