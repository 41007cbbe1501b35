'use strict';
// Writes scripts/data/chat-sample.jsonl: the small chat SFT sample bundled for tests and quick fine-tuning runs
// (original text, generated deterministically: rerun this script to regenerate it byte for byte). It mixes
// multi-turn `messages` records (with and without a system turn) and alpaca-style instruction/input/output records.
const fs = require('fs');
const path = require('path');

const opposites = [['hot', 'cold'], ['early', 'late'], ['empty', 'full'], ['loud', 'quiet'], ['light', 'heavy'], ['open', 'closed'], ['wet', 'dry'], ['fast', 'slow']];
const sounds = [['cow', 'moo'], ['dog', 'woof'], ['cat', 'meow'], ['duck', 'quack'], ['sheep', 'baa'], ['owl', 'hoot']];
const days = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const words = ['river', 'lantern', 'pebble', 'orchard', 'violet', 'harbor', 'meadow', 'candle'];
const systems = ['You are a concise assistant.', 'Answer in one short sentence.'];

function records() {
  const out = [];
  for (let i = 0; i < 12; i++) {
    const a = 3 + ((i * 7) % 17), b = 2 + ((i * 5) % 11);
    const [word, opposite] = opposites[i % opposites.length];
    const messages = [];
    if (i % 3 === 0) messages.push({ role: 'system', content: systems[i % 2] });
    messages.push({ role: 'user', content: `What is ${a} plus ${b}?` });
    messages.push({ role: 'assistant', content: `${a} plus ${b} is ${a + b}.` });
    messages.push({ role: 'user', content: `And what is the opposite of ${word}?` });
    messages.push({ role: 'assistant', content: `The opposite of ${word} is ${opposite}.` });
    out.push({ messages });
  }
  for (let i = 0; i < 12; i++) {
    const [animal, sound] = sounds[i % sounds.length];
    const day = days[i % 7];
    out.push({
      messages: [
        { role: 'user', content: `Which sound does a ${animal} make?` },
        { role: 'assistant', content: `A ${animal} says ${sound}.` },
        { role: 'user', content: `What day comes after ${day}?` },
        { role: 'assistant', content: `After ${day} comes ${days[(i + 1) % 7]}.` },
      ],
    });
  }
  for (let i = 0; i < 12; i++) {
    const word = words[i % words.length];
    out.push({ instruction: 'Spell the word backwards.', input: word, output: [...word].reverse().join('') });
  }
  for (let i = 0; i < 12; i++) {
    const word = words[(i * 3) % words.length];
    out.push({ instruction: `How many letters are in the word "${word}"?`, input: '', output: `"${word}" has ${word.length} letters.` });
  }
  return out;
}

const target = path.join(__dirname, 'data', 'chat-sample.jsonl');
if (require.main === module) {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, records().map((r) => JSON.stringify(r)).join('\n') + '\n');
  console.log(`wrote ${target}`);
}

module.exports = { chatSamplePath: target, chatSampleRecords: records };
