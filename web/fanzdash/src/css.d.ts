// CSS imports are bundled by esbuild into fanzdash.css.
declare module '*.css';
