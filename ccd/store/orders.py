"""Products and orders (seed 000: 订单管理, 产品库存). Money in fen, as int."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ccd.store.base import Database, placeholders
from ccd.store.errors import DuplicateError, InvalidValueError, NotFoundError
from ccd.store.models import ORDER_STATUSES, Order, OrderLine, Product

LineInput = tuple[int | str, int] | Mapping[str, Any]


def _product(r: Any) -> Product:
    return Product(r["id"], r["sku"], r["name"], r["price"], bool(r["disabled"]))


class Products:
    """`store.products`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, sku: str, name: str, price: int) -> Product:
        """A product; `price` in fen (12800 = ¥128.00)."""
        sku, name = (sku or "").strip(), (name or "").strip()
        if not sku or len(sku) > 64 or not name or len(name) > 200:
            raise InvalidValueError("a product needs a SKU (≤ 64) and a name (≤ 200)")
        if not isinstance(price, int) or isinstance(price, bool) or price < 0:
            raise InvalidValueError(f"price must be a whole number of fen ≥ 0, not {price!r}")
        try:
            rowid, _ = await self._db.write(
                "INSERT INTO products(sku, name, price) VALUES (?, ?, ?)", (sku, name, price)
            )
        except DuplicateError:
            raise DuplicateError(f"product SKU {sku!r} already exists") from None
        return await self.get(rowid)

    async def get(self, product: int | str) -> Product:
        col = "sku" if isinstance(product, str) else "id"
        row = await self._db.fetchone(f"SELECT * FROM products WHERE {col} = ?", (product,))
        if row is None:
            raise NotFoundError(f"no product {product!r}")
        return _product(row)

    async def list(self, *, include_disabled: bool = False) -> list[Product]:
        rows = await self._db.fetchall(
            "SELECT * FROM products WHERE disabled = 0 OR ? ORDER BY sku", (int(include_disabled),)
        )
        return [_product(r) for r in rows]


class Orders:
    """`store.orders`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        customer_id: int,
        lines: Iterable[LineInput],
        *,
        author: str | None = None,
        status: str = "new",
        note: str | None = None,
        at: float | None = None,
    ) -> Order:
        """An order of (product id or SKU, qty) lines, or mappings {"product", "qty", "price"?}.

        Unit prices default to the product's current price and are frozen into the order.
        `at` backdates the order (imports, demo data); default now.
        """
        if status not in ORDER_STATUSES:
            raise InvalidValueError(f"order status {status!r} is not one of {', '.join(ORDER_STATUSES)}")
        wanted: list[tuple[int | str, int, int | None]] = []
        for ln in lines:
            if isinstance(ln, Mapping):
                prod, qty, price = ln.get("product"), ln.get("qty", 1), ln.get("price")
            else:
                prod, qty = ln
                price = None
            if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
                raise InvalidValueError(f"quantity must be a whole number > 0, not {qty!r}")
            if price is not None and (not isinstance(price, int) or price < 0):
                raise InvalidValueError(f"price must be a whole number of fen ≥ 0, not {price!r}")
            if not isinstance(prod, int | str):
                raise InvalidValueError(f"product must be an id or a SKU, not {prod!r}")
            wanted.append((prod, qty, price))
        if not wanted:
            raise InvalidValueError("an order needs at least one line")
        if not await self._db.fetchone("SELECT 1 FROM customers WHERE id = ?", (customer_id,)):
            raise NotFoundError(f"no customer {customer_id}")
        now = self._db.clock.wall() if at is None else float(at)
        async with self._db.transaction() as db:
            resolved: list[tuple[int, int, int]] = []
            for prod, qty, price in wanted:
                col = "sku" if isinstance(prod, str) else "id"
                rows = list(
                    await db.execute_fetchall(f"SELECT id, price FROM products WHERE {col} = ?", (prod,))
                )
                if not rows:
                    raise NotFoundError(f"no product {prod!r}")
                pid, list_price = rows[0]
                resolved.append((pid, qty, list_price if price is None else price))
            total = sum(q * p for _, q, p in resolved)
            cur = await db.execute(
                "INSERT INTO orders(customer_id, status, created, total, author, note) VALUES (?, ?, ?, ?, ?, ?)",
                (customer_id, status, now, total, author, (note or None) and note[:2000]),
            )
            order_id = cur.lastrowid
            assert order_id is not None
            day = datetime.fromtimestamp(now, self._db.tz).strftime("%Y%m%d")
            await db.execute("UPDATE orders SET no = ? WHERE id = ?", (f"SO{day}-{order_id:05d}", order_id))
            await db.executemany(
                "INSERT INTO order_lines(order_id, line, product_id, qty, price) VALUES (?, ?, ?, ?, ?)",
                [(order_id, i, pid, q, p) for i, (pid, q, p) in enumerate(resolved, 1)],
            )
        return await self.get(order_id)

    async def get(self, order_id: int) -> Order:
        found = await self._load("SELECT * FROM orders WHERE id = ?", (order_id,))
        if not found:
            raise NotFoundError(f"no order {order_id}")
        return found[0]

    async def recent(self, customer_id: int, n: int = 5) -> list[Order]:
        """The customer's n latest orders with their lines, newest first."""
        return await self._load(
            "SELECT * FROM orders WHERE customer_id = ? ORDER BY created DESC, id DESC LIMIT ?",
            (customer_id, int(n)),
        )

    async def set_status(self, order_id: int, status: str) -> Order:
        if status not in ORDER_STATUSES:
            raise InvalidValueError(f"order status {status!r} is not one of {', '.join(ORDER_STATUSES)}")
        _, n = await self._db.write("UPDATE orders SET status = ? WHERE id = ?", (status, order_id))
        if n == 0:
            raise NotFoundError(f"no order {order_id}")
        return await self.get(order_id)

    async def _load(self, sql: str, params: tuple[Any, ...]) -> list[Order]:
        rows = await self._db.fetchall(sql, params)
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        lines: dict[int, list[OrderLine]] = {i: [] for i in ids}
        for r in await self._db.fetchall(
            f"""SELECT l.order_id, l.line, l.product_id, p.sku, p.name, l.qty, l.price
                FROM order_lines l JOIN products p ON p.id = l.product_id
                WHERE l.order_id IN ({placeholders(len(ids))}) ORDER BY l.order_id, l.line""",
            ids,
        ):
            lines[r["order_id"]].append(
                OrderLine(r["line"], r["product_id"], r["sku"], r["name"], r["qty"], r["price"])
            )
        return [
            Order(r["id"], r["customer_id"], r["no"], r["status"], r["created"], r["total"], r["author"], r["note"],
                  tuple(lines[r["id"]]))
            for r in rows
        ]  # fmt: skip
