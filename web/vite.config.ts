import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// `npm run dev -w web` serves the console with hot reload and proxies the API to the service on :8000.
export default defineConfig({
  plugins: [react()],
  server: { proxy: { '/api': 'http://localhost:8000' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Nothing inlined as data: URLs; the page's CSP allows scripts and styles from its own origin only.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 700,
  },
})
