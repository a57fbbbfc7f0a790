// webpack 5 needs nothing for biasrc: `entry` names the app's script (the default is ./src/index.js) and the
// headers are for `webpack serve`. The page is public/index.html (webpack-dev-server's default static folder).
const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default {
  entry: './main.js',
  devServer: { headers },
};
