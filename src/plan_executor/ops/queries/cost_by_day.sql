-- Execution cost by day (the attempt's UTC start date): dollars filled over every filled child
-- order, and what filling them cost against the order's arrival mid (positive = paid away).
WITH filled AS (
    SELECT
        o.day,
        o.filled_qty * o.avg_fill_price AS notional,
        o.filled_qty * CASE o.side
            WHEN 'buy' THEN o.avg_fill_price - o.arrival_quote.mid
            ELSE o.arrival_quote.mid - o.avg_fill_price
        END AS cost
    FROM orders AS o
    WHERE o.kind = 'order'
        AND o.filled_qty > 0
        AND o.avg_fill_price IS NOT NULL
        AND o.arrival_quote IS NOT NULL
)
SELECT
    f.day,
    COUNT(*) AS filled_orders,
    ROUND(SUM(f.notional), 2) AS filled_notional,
    ROUND(SUM(f.cost), 2) AS cost,
    CAST(10000 * SUM(f.cost) / SUM(f.notional) AS DECIMAL(18, 2)) AS cost_bps
FROM filled AS f
GROUP BY f.day
ORDER BY f.day DESC
LIMIT 31
