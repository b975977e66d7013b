// Copies GOV.UK Frontend's fonts, images and JavaScript into frontend/build/govuk/,
// where Django's staticfiles (and WhiteNoise) pick them up. No CDN.
import { cpSync, copyFileSync, mkdirSync } from "node:fs";

const source = "node_modules/govuk-frontend/dist/govuk";
const target = "frontend/build/govuk";

mkdirSync(target, { recursive: true });
cpSync(`${source}/assets`, `${target}/assets`, { recursive: true });
copyFileSync(`${source}/govuk-frontend.min.js`, `${target}/govuk-frontend.min.js`);
