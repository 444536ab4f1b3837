"""Pure domain: contracts, money and quantity rules, pricing, order state. No I/O."""
