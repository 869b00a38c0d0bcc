/** Types of enable.mjs (plain JavaScript, so that it runs before any TypeScript support). */
export declare function enableTypeScript(preload?: string[]): Promise<void>;
