// Ambient declarations for Vite: CSS imports are side-effect modules.
declare module '*.css';
