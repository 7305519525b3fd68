import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { lazy, StrictMode, Suspense } from 'react'
import { createRoot } from 'react-dom/client'
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router'
import { ApiError } from './api.ts'
import Board from './pages/Board.tsx'
import Login from './pages/Login.tsx'
import { SessionProvider, useSession } from './session.tsx'
import { AfterSignIn, Shell } from './shell.tsx'
import { Loading, NoticeProvider } from './ui.tsx'
import './styles.css'

// The board is the landing page and ships in the first bundle; every other page loads when first opened.
const Register = lazy(() => import('./pages/Register.tsx'))
const ForgotPassword = lazy(() => import('./pages/ForgotPassword.tsx'))
const ResetPassword = lazy(() => import('./pages/ResetPassword.tsx'))
const AcceptInvitation = lazy(() => import('./pages/AcceptInvitation.tsx'))
const NoOrganization = lazy(() => import('./pages/NoOrganization.tsx'))
const NewOrganization = lazy(() => import('./pages/NewOrganization.tsx'))
const Deals = lazy(() => import('./pages/Deals.tsx'))
const Deal = lazy(() => import('./pages/Deal.tsx'))
const Contacts = lazy(() => import('./pages/Contacts.tsx'))
const Contact = lazy(() => import('./pages/Contact.tsx'))
const Companies = lazy(() => import('./pages/Companies.tsx'))
const Company = lazy(() => import('./pages/Company.tsx'))
const Import = lazy(() => import('./pages/Import.tsx'))
const Tasks = lazy(() => import('./pages/Tasks.tsx'))
const Dashboard = lazy(() => import('./pages/Dashboard.tsx'))
const Settings = lazy(() => import('./pages/Settings.tsx'))

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // A 4xx will not change by asking again; a network blip or 503 may.
      retry: (count, error) =>
        count < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    },
  },
})

function SignedOutRoutes() {
  const location = useLocation()
  const next = `${location.pathname}${location.search}`
  return (
    <Routes>
      <Route path="/login" element={<Login />} />
      <Route path="/register" element={<Register />} />
      <Route path="/forgot-password" element={<ForgotPassword />} />
      <Route path="/reset-password" element={<ResetPassword />} />
      <Route path="/invite" element={<AcceptInvitation />} />
      <Route path="*" element={<Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />} />
    </Routes>
  )
}

function SignedInRoutes() {
  const { organization } = useSession()
  if (!organization) {
    return (
      <Routes>
        <Route path="/invite" element={<AcceptInvitation />} />
        <Route path="/reset-password" element={<ResetPassword />} />
        <Route path="*" element={<NoOrganization />} />
      </Routes>
    )
  }
  return (
    <Routes>
      <Route element={<Shell />}>
        <Route path="/" element={<Board />} />
        <Route path="/deals" element={<Deals />} />
        <Route path="/deals/:id" element={<Deal />} />
        <Route path="/contacts" element={<Contacts />} />
        <Route path="/contacts/:id" element={<Contact />} />
        <Route path="/companies" element={<Companies />} />
        <Route path="/companies/:id" element={<Company />} />
        <Route path="/import/:kind" element={<Import />} />
        <Route path="/tasks" element={<Tasks />} />
        <Route path="/dashboard" element={<Dashboard />} />
        <Route path="/settings/*" element={<Settings />} />
        <Route path="/organizations/new" element={<NewOrganization />} />
        <Route path="/invite" element={<AcceptInvitation />} />
        <Route path="/reset-password" element={<ResetPassword />} />
      </Route>
      <Route path="/login" element={<AfterSignIn />} />
      <Route path="/register" element={<Navigate to="/" replace />} />
      <Route path="*" element={<Navigate to="/" replace />} />
    </Routes>
  )
}

function App() {
  const { status } = useSession()
  if (status === 'loading') return <Loading />
  return (
    <Suspense fallback={<Loading />}>
      {status === 'signed-in' ? <SignedInRoutes /> : <SignedOutRoutes />}
    </Suspense>
  )
}

const root = document.getElementById('root')
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <NoticeProvider>
            <SessionProvider>
              <App />
            </SessionProvider>
          </NoticeProvider>
        </BrowserRouter>
      </QueryClientProvider>
    </StrictMode>,
  )
}
