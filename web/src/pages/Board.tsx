export default function Board() {
  return <h1>Pipeline</h1>
}
