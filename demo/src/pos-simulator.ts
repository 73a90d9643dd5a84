// Writes the POS service's log lines: normal orders and the five failure scenarios.
//   [2024-11-16T10:30:00Z] [CRITICAL] Product #999 has no price | {"orderId":…,"errorType":"MISSING_PRICE"}
// Messages carry their variable parts (product, invoice) the way real services write them;
// incident grouping masks those into one message template.
import { pick, int, rng } from './random.js';

export const SCENARIOS = ['missing-price', 'product-not-found', 'inventory-shortage', 'payment-failed', 'invalid-store-config'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const STORES = ['STORE_001', 'STORE_002', 'STORE_003', 'STORE_004', 'STORE_005'];
export const KIOSKS = ['KIOSK_001', 'KIOSK_002', 'KIOSK_003', 'KIOSK_004'];
const PRODUCTS = [
  { id: 101, name: 'Cheeseburger', price: 5.5 },
  { id: 102, name: 'Fries', price: 2.75 },
  { id: 103, name: 'Cola', price: 1.95 },
  { id: 104, name: 'Chicken Wrap', price: 6.25 },
  { id: 105, name: 'Salad Bowl', price: 7.1 },
];
const PAYMENT_METHODS = ['card', 'cash', 'mobile'];

export interface PosLineOptions {
  store?: string;
  kiosk?: string;
  /** Product id for missing-price (default 999) and product-not-found (default random). */
  product?: number;
  time?: Date;
  rand?: () => number;
}

const orderId = (rand: () => number) => `ORD-${int(rand, 100000, 999999)}`;

function line(time: Date, level: string, message: string, data: Record<string, unknown>): string {
  return `[${time.toISOString()}] [${level}] ${message} | ${JSON.stringify(data)}`;
}

/** One line of a failure scenario. */
export function posErrorLine(scenario: Scenario, opts: PosLineOptions = {}): string {
  const rand = opts.rand ?? Math.random;
  const time = opts.time ?? new Date();
  const storeNumber = opts.store ?? pick(rand, STORES);
  const kioskNumber = opts.kiosk ?? pick(rand, KIOSKS);
  const base = { orderId: orderId(rand), storeNumber, kioskNumber };
  switch (scenario) {
    case 'missing-price': {
      const productId = opts.product ?? 999;
      return line(time, 'CRITICAL', `Product #${productId} has no price`, { ...base, productId, productName: productId === 999 ? 'Mystery Product' : `Product ${productId}`, errorType: 'MISSING_PRICE' });
    }
    case 'product-not-found': {
      const productId = opts.product ?? int(rand, 5000, 5999);
      return line(time, 'ERROR', `Product #${productId} not found`, { ...base, productId, errorType: 'PRODUCT_NOT_FOUND' });
    }
    case 'inventory-shortage': {
      const p = pick(rand, PRODUCTS);
      const requested = int(rand, 3, 10);
      const available = int(rand, 0, 2);
      return line(time, 'WARNING', `Insufficient inventory for product #${p.id}: requested ${requested}, available ${available}`, { ...base, productId: p.id, productName: p.name, requested, available, errorType: 'INVENTORY_SHORTAGE' });
    }
    case 'payment-failed': {
      const invoiceNumber = `INV-${int(rand, 1000, 9999)}`;
      return line(time, 'ERROR', `Payment declined for invoice ${invoiceNumber}`, { ...base, invoiceNumber, amount: Number((rand() * 60 + 5).toFixed(2)), paymentMethod: 'card', errorType: 'PAYMENT_FAILED' });
    }
    case 'invalid-store-config': {
      const configKey = pick(rand, ['tax_rate', 'currency', 'price_list']);
      return line(time, 'CRITICAL', `Store configuration invalid: ${configKey} is missing`, { storeNumber, kioskNumber, configKey, errorType: 'INVALID_STORE_CONFIG' });
    }
  }
}

/** One normal, successful order. */
export function posOrderLine(opts: PosLineOptions = {}): string {
  const rand = opts.rand ?? Math.random;
  const p = pick(rand, PRODUCTS);
  const quantity = int(rand, 1, 4);
  return line(opts.time ?? new Date(), 'INFO', 'Order completed', {
    orderId: orderId(rand),
    storeNumber: opts.store ?? pick(rand, STORES),
    kioskNumber: opts.kiosk ?? pick(rand, KIOSKS),
    productId: p.id,
    productName: p.name,
    quantity,
    total: Number((p.price * quantity).toFixed(2)),
    paymentMethod: pick(rand, PAYMENT_METHODS),
  });
}

/** Mixed traffic: mostly orders, an error now and then (errorRate 0..1). */
export function posTrafficLine(rand: () => number = rng(), errorRate = 0.05, time = new Date()): string {
  if (rand() < errorRate) return posErrorLine(pick(rand, SCENARIOS), { rand, time });
  return posOrderLine({ rand, time });
}
