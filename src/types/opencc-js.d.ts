// opencc-js ships its dictionaries as ES modules with no type declarations: each is one string,
// entries separated by "|", each entry "source target [target...]".
declare module 'opencc-js/dict/*' {
  const dictionary: string;
  export default dictionary;
}
