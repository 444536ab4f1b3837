-- Orders per plan, newest first: child orders sent, those that filled (even in part), and the
-- cancellations asked for; a plan that sent nothing (REJECTED, nothing to do) shows zeros.
SELECT
    r.started_at,
    r.plan_id,
    r.attempt,
    r.status,
    SUM(CASE WHEN o.kind = 'order' THEN 1 ELSE 0 END) AS orders,
    SUM(CASE WHEN o.kind = 'order' AND o.filled_qty > 0 THEN 1 ELSE 0 END) AS orders_filled,
    SUM(CASE WHEN o.kind = 'cancellation' THEN 1 ELSE 0 END) AS cancellations
FROM results AS r
LEFT JOIN orders AS o
    ON o.day = r.day
    AND o.plan_id = r.plan_id
    AND o.attempt = r.attempt
    AND o.kind IS NOT NULL
WHERE r.event_id IS NOT NULL
GROUP BY r.started_at, r.plan_id, r.attempt, r.status
ORDER BY r.started_at DESC, r.attempt DESC
LIMIT 20
