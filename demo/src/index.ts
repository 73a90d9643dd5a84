export * from './random.js';
export * from './pos-simulator.js';
export * from './chatbot-simulator.js';
